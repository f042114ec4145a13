"""gtransfer: transferability metrics for graph (and image) encoders.

Data flows one way: data -> models -> embeddings -> metrics -> studies/reports. Importing the
package is cheap: subpackages are imported on use (``gtransfer.metrics`` needs only numpy, scipy
and, for tensor inputs, torch).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
