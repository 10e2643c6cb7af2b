"""``python -m index``: the command line, the evaluation and the calibration."""
