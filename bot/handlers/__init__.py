"""The bot's handlers, one module per concern; ``bot.app`` wires them all."""
