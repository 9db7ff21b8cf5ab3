"""Developer tools: the `ictindex bench` measurement, its chart and the synthetic logs it reads."""
