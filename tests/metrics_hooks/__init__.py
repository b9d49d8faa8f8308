"""Tests of sfresilience.metrics; a package so its tests share the traffic they drive."""
