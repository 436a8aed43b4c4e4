"""OWL 2 RL reasoning: the compiled rules (the default), owlrl (the reference), in-store reasoning,
explanations.
"""
