"""The model core: models, data, training, latent analysis, metrics, checkpoints, export.

Nothing under this package imports Qt; a test enforces it.
"""
