"""Write the example's data: data/scores.csv, data/test.csv and the private heldout/test.csv.

Run once: ``python make_data.py`` (the files are committed; this says how they were made).
"""

from pathlib import Path

import numpy as np
import pandas as pd


def players(rng: np.random.Generator, n: int) -> pd.DataFrame:
    hours = rng.gamma(2.0, 3.0, n).round(1)
    score = np.clip(rng.normal(40 + 4 * hours, 12), 0, 100).round(1)
    p = 1 / (1 + np.exp(-(0.08 * (score - 60) + 0.1 * (hours - 6))))
    return pd.DataFrame(
        {
            "player": [f"p{i:04d}" for i in range(n)],
            "group": rng.choice(["A", "B", "C"], n),
            "hours": hours,
            "score": score,
            "passed": (rng.random(n) < p).astype(int),
        }
    )


def main() -> None:
    here = Path(__file__).parent
    rng = np.random.default_rng(2026)
    (here / "data").mkdir(exist_ok=True)
    (here / "heldout").mkdir(exist_ok=True)
    players(rng, 300).to_csv(here / "data" / "scores.csv", index=False)
    players(rng, 200).to_csv(here / "data" / "test.csv", index=False)
    players(rng, 400).to_csv(here / "heldout" / "test.csv", index=False)


if __name__ == "__main__":
    main()
