"""The neural estimators (``LatticeRegressor``, ``LatticeClassifier``): members, target
scaling, inference, intervals and saving."""
