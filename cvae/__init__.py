"""Conditional VAEs on MNIST in Pixyz: model 1 draws a digit, model 2 names one."""
