"""Messages on the wire: the versioned JSON codec (and its generated fast path), framing
and the connection state machines of the TCP transport."""
