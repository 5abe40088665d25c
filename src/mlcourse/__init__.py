"""mlcourse: helpers, data and exercise tooling for the Lumen Isles machine-learning course."""

__version__ = "0.1.0"
