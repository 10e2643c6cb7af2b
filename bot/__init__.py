"""The Telegram layer: settings, handlers, rendering, admin commands and the console mode.

Run it with ``python -m bot``; build it in code with ``bot.app.build_application``.
"""
