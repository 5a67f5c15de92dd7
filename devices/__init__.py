"""Device layer: codecs, drivers and simulators for floor hardware; knows nothing of the app."""
