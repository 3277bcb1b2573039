"""Imports every context's models so Alembic and ``create_all`` see the whole schema."""
from app.archives.models import ArchiveConsultation, ArchiveFile, ArchiveHolder, ArchivePackage  # noqa: F401
from app.casefile.attorney_models import PowerOfAttorney  # noqa: F401
from app.casefile.models import BusinessNumberCounter, Case, CaseEvent, Material, Party, Task  # noqa: F401
from app.cases.batch_models import BatchItem, InstitutionBatch, InstitutionFiling  # noqa: F401
from app.catalog.models import BusinessType, ProcessVersion  # noqa: F401
from app.db import Base  # noqa: F401
from app.engine.models import WorkflowState  # noqa: F401
from app.federation.forward_models import CollectedCheckpoint, FederatedCase  # noqa: F401
from app.federation.models import FederationNonce, FederationPeer  # noqa: F401
from app.federation.nav_models import DefinitionAdoption, DefinitionOverride, DefinitionPackage, Navigation  # noqa: F401
from app.feedback.models import Rating, RatingLink  # noqa: F401
from app.ferry.models import (  # noqa: F401
    FerryCopyEntry,
    FerryCopyRight,
    FerryImport,
    FerryPackage,
    FerryReturnFile,
    FerryReturnReceived,
    FerryReview,
)
from app.identity.models import Institution, OrgUnit, Role, Tenant, User, UserRole  # noqa: F401
from app.integrations.models import (  # noqa: F401
    Interface,
    InterfaceCallLog,
    JobLease,
    OutboxDelivery,
    OutboxMessage,
)
from app.integrations.verification_models import MaterialWaiver, TaxCase, VerificationSnapshot  # noqa: F401
from app.registry.models import (  # noqa: F401
    Certificate,
    CertificateCounter,
    RealtyUnit,
    RegisterEntry,
    Right,
    RightHolder,
)
from app.security.models import AuditEntry, AuditHead  # noqa: F401
from app.supervision.models import ExceptionLog  # noqa: F401
