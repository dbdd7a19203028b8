"""Platform state: the storage core (`Store`), its engines, sealing, and the typed clients.

Services reach storage through `StorageClient` (over the mesh) or, in unit tests, `LocalStorage`
(in-process, same methods). The storage service (gaiwan.services.storage) serves a `Store`.
"""

from ._sealing import SealedValueError
from .client import Lease, StorageClient, Versioned
from .engines import open_engine
from .local import LocalStorage
from .namespaces import NAMESPACES, Namespace, namespace_for
from .store import LeaseRef, Store, TxnResult

__all__ = [
    "NAMESPACES",
    "Lease",
    "LeaseRef",
    "LocalStorage",
    "Namespace",
    "SealedValueError",
    "StorageClient",
    "Store",
    "TxnResult",
    "Versioned",
    "namespace_for",
    "open_engine",
]
