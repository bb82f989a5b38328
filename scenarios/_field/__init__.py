"""Field trials over TCP: the cloud server, the POS and phone client processes, and
``assocsim run --transport tcp``, which acts a scenario out with them."""
