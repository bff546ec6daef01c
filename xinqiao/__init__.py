"""Xinqiao (心桥): community psychological service and crisis-intervention platform."""
