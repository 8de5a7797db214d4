"""Learning-progress estimators shared by teachers."""
