"""VAE Studio: train autoencoders and VAEs, and see what they learned."""
__version__ = "0.1.0"
