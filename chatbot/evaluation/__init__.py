"""Choosing a model with evidence: a bot's own test questions asked of candidate models and
answer modes, scored the way a customer would judge the answers (`chatbot eval`)."""
