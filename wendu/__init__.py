"""Wendu (温度): an HR automation engine.

HR authors write rules in YAML; each rule compiles into a typed plan that a durable Temporal
workflow interprets. See ARCHITECTURE in the docs for the layers.
"""

__version__ = "0.1.0"
