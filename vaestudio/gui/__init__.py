"""The VAE Studio window (PySide6 + pyqtgraph); the model work stays in `vaestudio.core`."""
from .pyside_workarounds import immortalise_singletons

immortalise_singletons()
