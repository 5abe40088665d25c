"""The loader's allow-list: the only types a learner's fitted-model file may name (trusted).

A model answer travels as a skops file (no pickle). skops rebuilds each object from the
file's state: ``cls.__new__(cls)`` and then ``__setstate__``, or a ``__reduce__``-style
constructor. A library class whose rebuild or methods run code taken from the state (a
string passed to ``exec``, a callable called while loading) would run the learner's code in
the checker, so :func:`mlcourse.exercises.load_estimator` builds nothing unless **every**
type the file names (read from its ``schema.json``, not from skops' own defaults) is listed
here, and every node kind it uses is one of :data:`ALLOWED_NODE_KINDS`.

What is listed, and why each part is safe to rebuild:

* :data:`ESTIMATORS`: scikit-learn's public estimators and transformers (the output of
  ``sklearn.utils.all_estimators()`` for scikit-learn 1.9, written out, so a new version adds
  nothing by itself). Their rebuild is ``BaseEstimator.__setstate__`` (it pops the version
  tag and updates ``__dict__``); ``IsotonicRegression`` also rebuilds its interpolation
  function from its arrays.
* :data:`INTERNALS`: the library objects fitted estimators hold (trees, binners, losses and
  links, calibrators, scorers, splitters, metadata routing, neighbour trees, B-splines),
  rebuilt from arrays and numbers by their Cython or plain ``__setstate__``.
* :data:`NUMPY_SCIPY`: arrays, masked arrays, dtypes and scalar types, random generators,
  sparse matrices.
* :data:`FUNCTIONS`: functions a ``FunctionTransformer``, a scorer or a ``partial`` may name;
  any NumPy *ufunc* (``numpy.log1p``, ``numpy.sqrt``, ...) is also accepted: a ufunc only
  computes on arrays.
* :data:`PLAIN`: built-in containers and scalars.

:func:`rebuild_problem` re-checks each listed class when a file names it: every hook that a
rebuild or attribute access can run (:data:`HOOKS`) must be inherited from a class in
:data:`REVIEWED_OWNERS`. A library upgrade that gives a listed class a new ``__setstate__``
or ``__reduce__`` makes that class refused (and ``tests/test_loader_allowlist.py`` fail)
until someone reads the new code and adds its owner to the reviewed set.

An instructor extends the list for an own assignment with ``Assignment.model(...,
extra_types=("module.Class", ...))``: the extra types pass the same review at load time
(docs/assignments.md).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

#: skops node kinds the loader accepts. Refused: ``MethodNode`` (a bound method of any
#: object), ``OperatorFuncNode`` (``operator.methodcaller`` calls a method named in the
#: file), ``ConstructorFromReduceNode`` (calls a constructor with arguments from the file),
#: ``DefaultDictNode`` (a default factory is called on a missing key), ``QuantileForestNode``.
ALLOWED_NODE_KINDS = frozenset(
    {
        "BytearrayNode",
        "BytesNode",
        "CachedNode",
        "DTypeNode",
        "DictNode",
        "FunctionNode",
        "JsonNode",
        "ListNode",
        "LossNode",
        "MaskedArrayNode",
        "NdArrayNode",
        "ObjectNode",
        "PartialNode",
        "RandomGeneratorNode",
        "RandomStateNode",
        "SetNode",
        "SliceNode",
        "SparseMatrixNode",
        "TreeNode",
        "TupleNode",
        "TypeNode",
    }
)

#: scikit-learn 1.9's public estimators (``all_estimators()``, PassiveAggressive* left out:
#: deprecated, with a ``__new__`` of their own)
ESTIMATORS = frozenset(
    {
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.cluster._affinity_propagation.AffinityPropagation",
        "sklearn.cluster._agglomerative.AgglomerativeClustering",
        "sklearn.cluster._agglomerative.FeatureAgglomeration",
        "sklearn.cluster._bicluster.SpectralBiclustering",
        "sklearn.cluster._bicluster.SpectralCoclustering",
        "sklearn.cluster._birch.Birch",
        "sklearn.cluster._bisect_k_means.BisectingKMeans",
        "sklearn.cluster._dbscan.DBSCAN",
        "sklearn.cluster._hdbscan.hdbscan.HDBSCAN",
        "sklearn.cluster._kmeans.KMeans",
        "sklearn.cluster._kmeans.MiniBatchKMeans",
        "sklearn.cluster._mean_shift.MeanShift",
        "sklearn.cluster._optics.OPTICS",
        "sklearn.cluster._spectral.SpectralClustering",
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.compose._target.TransformedTargetRegressor",
        "sklearn.covariance._elliptic_envelope.EllipticEnvelope",
        "sklearn.covariance._empirical_covariance.EmpiricalCovariance",
        "sklearn.covariance._graph_lasso.GraphicalLasso",
        "sklearn.covariance._graph_lasso.GraphicalLassoCV",
        "sklearn.covariance._robust_covariance.MinCovDet",
        "sklearn.covariance._shrunk_covariance.LedoitWolf",
        "sklearn.covariance._shrunk_covariance.OAS",
        "sklearn.covariance._shrunk_covariance.ShrunkCovariance",
        "sklearn.cross_decomposition._pls.CCA",
        "sklearn.cross_decomposition._pls.PLSCanonical",
        "sklearn.cross_decomposition._pls.PLSRegression",
        "sklearn.cross_decomposition._pls.PLSSVD",
        "sklearn.decomposition._dict_learning.DictionaryLearning",
        "sklearn.decomposition._dict_learning.MiniBatchDictionaryLearning",
        "sklearn.decomposition._dict_learning.SparseCoder",
        "sklearn.decomposition._factor_analysis.FactorAnalysis",
        "sklearn.decomposition._fastica.FastICA",
        "sklearn.decomposition._incremental_pca.IncrementalPCA",
        "sklearn.decomposition._kernel_pca.KernelPCA",
        "sklearn.decomposition._lda.LatentDirichletAllocation",
        "sklearn.decomposition._nmf.MiniBatchNMF",
        "sklearn.decomposition._nmf.NMF",
        "sklearn.decomposition._pca.PCA",
        "sklearn.decomposition._sparse_pca.MiniBatchSparsePCA",
        "sklearn.decomposition._sparse_pca.SparsePCA",
        "sklearn.decomposition._truncated_svd.TruncatedSVD",
        "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
        "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
        "sklearn.dummy.DummyClassifier",
        "sklearn.dummy.DummyRegressor",
        "sklearn.ensemble._bagging.BaggingClassifier",
        "sklearn.ensemble._bagging.BaggingRegressor",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._forest.ExtraTreesRegressor",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.ensemble._forest.RandomTreesEmbedding",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._gb.GradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._iforest.IsolationForest",
        "sklearn.ensemble._stacking.StackingClassifier",
        "sklearn.ensemble._stacking.StackingRegressor",
        "sklearn.ensemble._voting.VotingClassifier",
        "sklearn.ensemble._voting.VotingRegressor",
        "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
        "sklearn.ensemble._weight_boosting.AdaBoostRegressor",
        "sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
        "sklearn.feature_extraction._hash.FeatureHasher",
        "sklearn.feature_extraction.image.PatchExtractor",
        "sklearn.feature_extraction.text.CountVectorizer",
        "sklearn.feature_extraction.text.HashingVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_selection._from_model.SelectFromModel",
        "sklearn.feature_selection._rfe.RFE",
        "sklearn.feature_selection._rfe.RFECV",
        "sklearn.feature_selection._sequential.SequentialFeatureSelector",
        "sklearn.feature_selection._univariate_selection.GenericUnivariateSelect",
        "sklearn.feature_selection._univariate_selection.SelectFdr",
        "sklearn.feature_selection._univariate_selection.SelectFpr",
        "sklearn.feature_selection._univariate_selection.SelectFwe",
        "sklearn.feature_selection._univariate_selection.SelectKBest",
        "sklearn.feature_selection._univariate_selection.SelectPercentile",
        "sklearn.feature_selection._variance_threshold.VarianceThreshold",
        "sklearn.frozen._frozen.FrozenEstimator",
        "sklearn.gaussian_process._gpc.GaussianProcessClassifier",
        "sklearn.gaussian_process._gpr.GaussianProcessRegressor",
        "sklearn.impute._base.MissingIndicator",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.impute._knn.KNNImputer",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn.kernel_approximation.AdditiveChi2Sampler",
        "sklearn.kernel_approximation.Nystroem",
        "sklearn.kernel_approximation.PolynomialCountSketch",
        "sklearn.kernel_approximation.RBFSampler",
        "sklearn.kernel_approximation.SkewedChi2Sampler",
        "sklearn.kernel_ridge.KernelRidge",
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.linear_model._bayes.ARDRegression",
        "sklearn.linear_model._bayes.BayesianRidge",
        "sklearn.linear_model._coordinate_descent.ElasticNet",
        "sklearn.linear_model._coordinate_descent.ElasticNetCV",
        "sklearn.linear_model._coordinate_descent.Lasso",
        "sklearn.linear_model._coordinate_descent.LassoCV",
        "sklearn.linear_model._coordinate_descent.MultiTaskElasticNet",
        "sklearn.linear_model._coordinate_descent.MultiTaskElasticNetCV",
        "sklearn.linear_model._coordinate_descent.MultiTaskLasso",
        "sklearn.linear_model._coordinate_descent.MultiTaskLassoCV",
        "sklearn.linear_model._glm.glm.GammaRegressor",
        "sklearn.linear_model._glm.glm.PoissonRegressor",
        "sklearn.linear_model._glm.glm.TweedieRegressor",
        "sklearn.linear_model._huber.HuberRegressor",
        "sklearn.linear_model._least_angle.Lars",
        "sklearn.linear_model._least_angle.LarsCV",
        "sklearn.linear_model._least_angle.LassoLars",
        "sklearn.linear_model._least_angle.LassoLarsCV",
        "sklearn.linear_model._least_angle.LassoLarsIC",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.linear_model._logistic.LogisticRegressionCV",
        "sklearn.linear_model._omp.OrthogonalMatchingPursuit",
        "sklearn.linear_model._omp.OrthogonalMatchingPursuitCV",
        "sklearn.linear_model._perceptron.Perceptron",
        "sklearn.linear_model._quantile.QuantileRegressor",
        "sklearn.linear_model._ransac.RANSACRegressor",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.linear_model._ridge.RidgeCV",
        "sklearn.linear_model._ridge.RidgeClassifier",
        "sklearn.linear_model._ridge.RidgeClassifierCV",
        "sklearn.linear_model._stochastic_gradient.SGDClassifier",
        "sklearn.linear_model._stochastic_gradient.SGDOneClassSVM",
        "sklearn.linear_model._stochastic_gradient.SGDRegressor",
        "sklearn.linear_model._theil_sen.TheilSenRegressor",
        "sklearn.manifold._classical_mds.ClassicalMDS",
        "sklearn.manifold._isomap.Isomap",
        "sklearn.manifold._locally_linear.LocallyLinearEmbedding",
        "sklearn.manifold._mds.MDS",
        "sklearn.manifold._spectral_embedding.SpectralEmbedding",
        "sklearn.manifold._t_sne.TSNE",
        "sklearn.mixture._bayesian_mixture.BayesianGaussianMixture",
        "sklearn.mixture._gaussian_mixture.GaussianMixture",
        "sklearn.model_selection._classification_threshold.FixedThresholdClassifier",
        "sklearn.model_selection._classification_threshold.TunedThresholdClassifierCV",
        "sklearn.model_selection._search.GridSearchCV",
        "sklearn.model_selection._search.RandomizedSearchCV",
        "sklearn.multiclass.OneVsOneClassifier",
        "sklearn.multiclass.OneVsRestClassifier",
        "sklearn.multiclass.OutputCodeClassifier",
        "sklearn.multioutput.ClassifierChain",
        "sklearn.multioutput.MultiOutputClassifier",
        "sklearn.multioutput.MultiOutputRegressor",
        "sklearn.multioutput.RegressorChain",
        "sklearn.naive_bayes.BernoulliNB",
        "sklearn.naive_bayes.CategoricalNB",
        "sklearn.naive_bayes.ComplementNB",
        "sklearn.naive_bayes.GaussianNB",
        "sklearn.naive_bayes.MultinomialNB",
        "sklearn.neighbors._classification.KNeighborsClassifier",
        "sklearn.neighbors._classification.RadiusNeighborsClassifier",
        "sklearn.neighbors._graph.KNeighborsTransformer",
        "sklearn.neighbors._graph.RadiusNeighborsTransformer",
        "sklearn.neighbors._kde.KernelDensity",
        "sklearn.neighbors._lof.LocalOutlierFactor",
        "sklearn.neighbors._nca.NeighborhoodComponentsAnalysis",
        "sklearn.neighbors._nearest_centroid.NearestCentroid",
        "sklearn.neighbors._regression.KNeighborsRegressor",
        "sklearn.neighbors._regression.RadiusNeighborsRegressor",
        "sklearn.neighbors._unsupervised.NearestNeighbors",
        "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
        "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
        "sklearn.neural_network._rbm.BernoulliRBM",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.Binarizer",
        "sklearn.preprocessing._data.KernelCenterer",
        "sklearn.preprocessing._data.MaxAbsScaler",
        "sklearn.preprocessing._data.MinMaxScaler",
        "sklearn.preprocessing._data.Normalizer",
        "sklearn.preprocessing._data.PowerTransformer",
        "sklearn.preprocessing._data.QuantileTransformer",
        "sklearn.preprocessing._data.RobustScaler",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._discretization.KBinsDiscretizer",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._encoders.OrdinalEncoder",
        "sklearn.preprocessing._function_transformer.FunctionTransformer",
        "sklearn.preprocessing._label.LabelBinarizer",
        "sklearn.preprocessing._label.LabelEncoder",
        "sklearn.preprocessing._label.MultiLabelBinarizer",
        "sklearn.preprocessing._polynomial.PolynomialFeatures",
        "sklearn.preprocessing._polynomial.SplineTransformer",
        "sklearn.preprocessing._target_encoder.TargetEncoder",
        "sklearn.random_projection.GaussianRandomProjection",
        "sklearn.random_projection.SparseRandomProjection",
        "sklearn.semi_supervised._label_propagation.LabelPropagation",
        "sklearn.semi_supervised._label_propagation.LabelSpreading",
        "sklearn.semi_supervised._self_training.SelfTrainingClassifier",
        "sklearn.svm._classes.LinearSVC",
        "sklearn.svm._classes.LinearSVR",
        "sklearn.svm._classes.NuSVC",
        "sklearn.svm._classes.NuSVR",
        "sklearn.svm._classes.OneClassSVM",
        "sklearn.svm._classes.SVC",
        "sklearn.svm._classes.SVR",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.tree._classes.ExtraTreeRegressor",
    }
)

#: library objects that fitted estimators hold
INTERNALS = frozenset(
    {
        "sklearn._loss._loss.CyAbsoluteError",
        "sklearn._loss._loss.CyExponentialLoss",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfGammaLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss._loss.CyHalfPoissonLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss._loss.CyHuberLoss",
        "sklearn._loss._loss.CyPinballLoss",
        "sklearn._loss.link.HalfLogitLink",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
        "sklearn._loss.link.LogLink",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.loss.AbsoluteError",
        "sklearn._loss.loss.ExponentialLoss",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfGammaLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.HalfPoissonLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.loss.HuberLoss",
        "sklearn._loss.loss.PinballLoss",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.metrics._dist_metrics.ChebyshevDistance64",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.metrics._scorer._CurveScorer",
        "sklearn.metrics._scorer._PassthroughScorer",
        "sklearn.metrics._scorer._Scorer",
        "sklearn.model_selection._split.GroupKFold",
        "sklearn.model_selection._split.KFold",
        "sklearn.model_selection._split.PredefinedSplit",
        "sklearn.model_selection._split.RepeatedStratifiedKFold",
        "sklearn.model_selection._split.ShuffleSplit",
        "sklearn.model_selection._split.StratifiedGroupKFold",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.model_selection._split.StratifiedShuffleSplit",
        "sklearn.model_selection._split.TimeSeriesSplit",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.tree._tree.Tree",
        "sklearn.utils._metadata_requests.MetadataRequest",
        "sklearn.utils._metadata_requests.MethodMetadataRequest",
        "scipy.interpolate._bsplines.BSpline",
    }
)

#: arrays, dtypes, scalar types, random generators, sparse matrices
NUMPY_SCIPY = frozenset(
    {
        "numpy.ndarray",
        "numpy.ma.MaskedArray",
        "numpy.ma.core.MaskedArray",
        "numpy.dtype",
        "numpy.bool",
        "numpy.bool_",
        "numpy.int8",
        "numpy.int16",
        "numpy.int32",
        "numpy.int64",
        "numpy.uint8",
        "numpy.uint16",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.float16",
        "numpy.float32",
        "numpy.float64",
        "numpy.str_",
        "numpy.random._generator.Generator",
        "numpy.random.mtrand.RandomState",
        "scipy.sparse._csr.csr_matrix",
        "scipy.sparse._csc.csc_matrix",
        "scipy.sparse._csr.csr_array",
        "scipy.sparse._csc.csc_array",
    }
)

#: functions a file may name (besides NumPy ufuncs)
FUNCTIONS = frozenset(
    {
        "sklearn.utils.validation.check_array",
        "scipy._lib.array_api_compat.numpy._aliases.asarray",
        "sklearn.metrics._classification.accuracy_score",
        "sklearn.metrics._classification.balanced_accuracy_score",
        "sklearn.metrics._classification.brier_score_loss",
        "sklearn.metrics._classification.f1_score",
        "sklearn.metrics._classification.fbeta_score",
        "sklearn.metrics._classification.log_loss",
        "sklearn.metrics._classification.precision_score",
        "sklearn.metrics._classification.recall_score",
        "sklearn.metrics._ranking.average_precision_score",
        "sklearn.metrics._ranking.roc_auc_score",
        "sklearn.metrics._regression.mean_absolute_error",
        "sklearn.metrics._regression.mean_squared_error",
        "sklearn.metrics._regression.r2_score",
    }
)

#: built-in containers and scalars
PLAIN = frozenset(
    {
        "builtins.bool",
        "builtins.bytearray",
        "builtins.bytes",
        "builtins.dict",
        "builtins.float",
        "builtins.int",
        "builtins.list",
        "builtins.NoneType",
        "builtins.set",
        "builtins.slice",
        "builtins.str",
        "builtins.tuple",
        "collections.OrderedDict",
        "functools.partial",
    }
)

ALLOWED_TYPES = ESTIMATORS | INTERNALS | NUMPY_SCIPY | FUNCTIONS | PLAIN

#: what loading or using a rebuilt object can run, per class: skops calls ``__new__`` and
#: ``__setstate__`` (or a ``__reduce__`` constructor); a judge's attribute reads go through
#: ``__getattribute__``/``__getattr__``; ``__del__`` runs when the object is dropped.
HOOKS = (
    "__new__",
    "__init__",
    "__setstate__",
    "__reduce__",
    "__reduce_ex__",
    "__getattr__",
    "__getattribute__",
    "__setattr__",
    "__del__",
    "__init_subclass__",
    "__set_name__",
)

#: the classes whose definition of a hook was read and found to run no code from the state
#: (library source, scikit-learn 1.9 / NumPy 2.4 / SciPy 1.17). ``*`` accepts any hook.
REVIEWED_OWNERS: dict[str, frozenset[str]] = {
    # plain object protocol, C containers and NumPy's own types: no code from the state
    "*": frozenset(
        {
            "builtins.object",
            "builtins.dict",
            "builtins.list",
            "builtins.tuple",
            "builtins.set",
            "builtins.float",
            "builtins.int",
            "numpy.ndarray",
            "numpy.ma.MaskedArray",
            "numpy.dtype",
            "numpy.generic",
            "builtins.str",
            # NumPy scalar types: C constructors of one number or string
            "numpy.bool",
            "numpy.int8",
            "numpy.int16",
            "numpy.int32",
            "numpy.int64",
            "numpy.uint8",
            "numpy.uint16",
            "numpy.uint32",
            "numpy.uint64",
            "numpy.float16",
            "numpy.float32",
            "numpy.float64",
            "numpy.str_",
            # Cython losses: a few float parameters (quantile, delta, ...)
            "sklearn._loss._loss.CyHalfMultinomialLoss",
            "sklearn._loss._loss.CyHuberLoss",
            "sklearn._loss._loss.CyPinballLoss",
            "numpy.random._generator.Generator",
            "numpy.random.mtrand.RandomState",
        }
    ),
    # BaseEstimator: pops the version tag, warns, updates __dict__
    "__setstate__": frozenset(
        {
            "sklearn.base.BaseEstimator",
            "sklearn.isotonic.IsotonicRegression",  # + _build_f(X_thresholds_, y_thresholds_)
            "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # dtype fix
            "sklearn.tree._tree.Tree",  # Cython: node and value arrays
            "sklearn.neighbors._kd_tree.BinaryTree64",  # Cython: arrays and a metric
            "sklearn.neighbors._ball_tree.BinaryTree64",
            "sklearn.metrics._dist_metrics.DistanceMetric64",
            "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        }
    ),
    "__reduce__": frozenset(
        {
            "sklearn.tree._tree.Tree",  # (Tree, (n_features, n_classes, n_outputs), state)
            "sklearn._loss._loss.CyLossFunction",
            "sklearn.neighbors._kd_tree.BinaryTree64",
            "sklearn.neighbors._ball_tree.BinaryTree64",
            "sklearn.metrics._dist_metrics.DistanceMetric64",
        }
    ),
    # Cython types allocate their C struct; no state is read
    "__new__": frozenset(
        {
            "sklearn.tree._tree.Tree",
            "sklearn._loss._loss.CyHalfBinomialLoss",
            "sklearn._loss._loss.CyAbsoluteError",
            "sklearn._loss._loss.CyExponentialLoss",
            "sklearn._loss._loss.CyHalfGammaLoss",
            "sklearn._loss._loss.CyHalfMultinomialLoss",
            "sklearn._loss._loss.CyHalfPoissonLoss",
            "sklearn._loss._loss.CyHalfSquaredError",
            "sklearn._loss._loss.CyHuberLoss",
            "sklearn._loss._loss.CyPinballLoss",
            "sklearn.neighbors._kd_tree.KDTree64",
            "sklearn.neighbors._ball_tree.BallTree64",
            "sklearn.metrics._dist_metrics.DistanceMetric64",
            "sklearn.metrics._dist_metrics.EuclideanDistance64",
            "sklearn.metrics._dist_metrics.ManhattanDistance64",
            "sklearn.metrics._dist_metrics.ChebyshevDistance64",
            "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        }
    ),
    "__init__": frozenset(),  # never called by skops (it uses __new__), listed for clone()
    # class creation only (never at load): metadata routing and set_output wrappers
    "__init_subclass__": frozenset(
        {
            "sklearn.utils._metadata_requests._MetadataRequester",
            "sklearn.utils._set_output._SetOutputMixin",
        }
    ),
    # attribute fall-backs: FrozenEstimator forwards to its estimator; MetadataRequest
    # looks a method's request up in its own __dict__
    "__getattr__": frozenset(
        {
            "sklearn.frozen._frozen.FrozenEstimator",
            "sklearn.utils._metadata_requests.MetadataRequest",
        }
    ),
}

#: metaclasses whose ``__call__``/``__instancecheck__`` are the standard ones
REVIEWED_METACLASSES = frozenset({"builtins.type", "abc.ABCMeta", "numpy._DTypeMeta"})


def qualname(obj: Any) -> str:
    """``module.QualName`` of a class or function."""
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"


def resolve(name: str) -> Any:
    """The object a dotted name refers to, imported as needed; ``None`` when there is none."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _hook_owner(cls: type, hook: str) -> str | None:
    for klass in cls.__mro__:
        if hook in vars(klass):
            return qualname(klass)
    return None


def hook_problems(cls: type) -> list[str]:
    """The hooks of ``cls`` defined by a class nobody reviewed (``[]``: safe to rebuild)."""
    problems = []
    meta = qualname(type(cls))
    if meta not in REVIEWED_METACLASSES:
        problems.append(f"metaclass {meta}")
    for hook in HOOKS:
        owner = _hook_owner(cls, hook)
        if hook == "__init__" or owner is None:
            continue  # skops never calls __init__; clone() calls the reviewed estimators'
        if owner in REVIEWED_OWNERS["*"] or owner in REVIEWED_OWNERS.get(hook, ()):
            continue
        problems.append(f"{hook} from {owner}")
    return problems


@functools.lru_cache(maxsize=4096)
def name_problem(name: str, extra: frozenset[str] = frozenset()) -> str | None:
    """Why ``name`` is refused by name alone (``None``: it is listed, or a NumPy ufunc).

    Imports nothing but NumPy: the grader's own process checks a file with it before the
    inspector's sandbox loads it (and reviews the classes' hooks, see :func:`rebuild_problem`).
    """
    import numpy as np

    if name in ALLOWED_TYPES or name in extra:
        return None
    # a top-level NumPy name only: no module named in the file is imported for this
    head, _, attr = name.partition(".")
    obj = getattr(np, attr, None) if head == "numpy" and "." not in attr else None
    if isinstance(obj, np.ufunc):
        return None  # a ufunc computes on arrays and nothing else
    return "not on the allow-list"


@functools.lru_cache(maxsize=4096)
def rebuild_problem(name: str, extra: frozenset[str] = frozenset()) -> str | None:
    """Why the type or function ``name`` must not be rebuilt (``None``: it may).

    ``extra`` holds an own assignment's additional types; they pass the same review.
    """
    listed = name_problem(name, extra)
    if listed is not None or name not in ALLOWED_TYPES and name not in extra:
        return listed  # refused, or a NumPy ufunc
    if name in PLAIN or name in FUNCTIONS:
        return None
    obj = resolve(name)
    if obj is None:
        return "not found in this version of the library"
    if not isinstance(obj, type):
        return None if callable(obj) and name in extra else "not a class"
    problems = hook_problems(obj)
    return f"unreviewed {', '.join(problems)}" if problems else None
