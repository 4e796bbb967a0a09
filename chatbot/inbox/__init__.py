"""The support desk around the bot: a conversation passed to a person when the customer asks
for one or the bot cannot help, the person's replies relayed to the customer, and whether any
staff member is there to answer. The store is chatbot/store/inbox.py; the console's Inbox tab
and the chat API (chatbot/web) are its two faces."""
