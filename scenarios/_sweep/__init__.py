"""Parameter sweeps: run a grid of knob values and seeds, plot the results, write the HTML
report."""
