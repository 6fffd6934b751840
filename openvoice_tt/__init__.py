"""OpenVoice V2 voice cloning (MeloTTS + tone-color converter) with a torch reference and a TTNN backend."""

__version__ = "0.1.0"
