"""The protocol's vocabulary: messages, addresses and ids, effects, the machine interface,
errors, validators and the strict structuring converter."""
