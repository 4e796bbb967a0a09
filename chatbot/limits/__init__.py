"""How much visitors may ask of a bot: requests a minute, answers generated at once. In this
process's memory (one server, the default) or in a store every server shares
(chatbot.shared_state), behind the same interface."""
