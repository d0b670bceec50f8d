"""The single sign-on part of :class:`infra.settings.Settings`: the identity provider's
tokens (issuer, audience, keys, claims, the hub's allow list of groups) and the pages'
OIDC client (the authorisation-code flow with PKCE)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OidcSettings(BaseSettings):
    """Environment variables ``MASHFLOW_OIDC_*``; see docs/operations.md, Single sign-on."""

    model_config = SettingsConfigDict(env_prefix="MASHFLOW_", extra="ignore", frozen=True)

    oidc_issuer: str | None = Field(
        default=None, description="OIDC issuer ('iss'); with audience and JWKS URL enables SSO."
    )
    oidc_audience: str | None = Field(default=None, description="Expected 'aud' of tokens.")
    oidc_jwks_url: str | None = Field(default=None, description="The issuer's JWKS (https).")
    oidc_role_claim: str = Field(
        default="mashflow_role", description="Claim naming the role; dots reach nested claims."
    )
    oidc_agency_claim: str = Field(
        default="mashflow_agency", description="Claim naming the agency code (dots allowed)."
    )
    oidc_name_claim: str = "name"
    oidc_algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    oidc_leeway_s: Annotated[int, Field(ge=0, le=300)] = 30
    oidc_group_roles: dict[str, str] = Field(
        default_factory=dict,
        description="The allow list of identity-provider groups (values of the role claim) "
        'and the mashflow role each may hold, as JSON: {"police-safeguarding": '
        '"agency_worker"}. A group not listed gives no role.',
    )
    oidc_hub_subjects: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Hub-wide roles pinned to named people: the subjects ('sub' claim) "
        'who may hold each, as JSON: {"compliance_officer": ["3f2a..."]}.',
    )

    oidc_client_id: str | None = Field(
        default=None,
        description="The client id registered for mashflow's pages at the identity provider; "
        "set, the sign-in page offers the provider (authorisation code with PKCE).",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="The client's secret (sent to the token endpoint with HTTP Basic); "
        "unset for a public client, which PKCE alone protects.",
    )
    oidc_redirect_uri: str | None = Field(
        default=None,
        description="The callback registered at the provider "
        "(default <public_url>/signin/oidc/callback).",
    )
    oidc_post_logout_redirect_uri: str | None = Field(
        default=None,
        description="Where the provider sends people back after signing out there "
        "(RP-Initiated Logout's post_logout_redirect_uri; register it at the provider; "
        "default <public_url>/signed-out).",
    )
    oidc_scopes: tuple[str, ...] = Field(
        default=("openid", "profile"),
        description="Scopes asked for at sign-in; must include openid, and whatever makes the "
        "provider put the role and agency claims in the ID token.",
    )
    oidc_discovery_url: str | None = Field(
        default=None,
        description="The provider's discovery document "
        "(default <issuer>/.well-known/openid-configuration).",
    )
    oidc_provider_name: str = Field(
        default="your organisation's account",
        max_length=80,
        description="How the sign-in page names the provider: 'Sign in with <name>'.",
    )

    @field_validator(
        "oidc_issuer",
        "oidc_audience",
        "oidc_jwks_url",
        "oidc_client_id",
        "oidc_redirect_uri",
        "oidc_post_logout_redirect_uri",
        "oidc_discovery_url",
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A shared-secret algorithm would let anyone holding the JWKS forge tokens.
        weak = [alg for alg in value if alg.upper().startswith("HS") or alg.lower() == "none"]
        if weak or not value:
            raise ValueError("must list asymmetric algorithms only (RS256, PS256, ES256, EdDSA)")
        return value

    @model_validator(mode="after")
    def _oidc_settings_agree(self) -> OidcSettings:
        oidc = (self.oidc_issuer, self.oidc_audience, self.oidc_jwks_url)
        if any(oidc) and not all(oidc):
            raise ValueError("oidc_issuer, oidc_audience and oidc_jwks_url go together")
        if all(oidc) and not self.oidc_group_roles:
            raise ValueError(
                "oidc_group_roles: single sign-on needs the allow list of groups and the "
                "role each may hold"
            )
        for group, role in self.oidc_group_roles.items():
            if role not in PERSON_ROLES:
                raise ValueError(
                    f"oidc_group_roles: group {group!r} names {role!r}, not one of "
                    f"{', '.join(sorted(PERSON_ROLES))}"
                )
        for role in self.oidc_hub_subjects:
            if role not in HUB_ROLE_NAMES:
                raise ValueError(
                    f"oidc_hub_subjects: {role!r} is not a hub-wide role "
                    f"({', '.join(sorted(HUB_ROLE_NAMES))})"
                )
        if self.oidc_client_id is not None and not all(oidc):
            raise ValueError(
                "oidc_client_id needs oidc_issuer, oidc_audience and oidc_jwks_url: "
                "the pages' sign-in checks ID tokens as the API checks its tokens"
            )
        if "openid" not in self.oidc_scopes:
            raise ValueError("oidc_scopes must include openid")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_jwks_url is not None

    @property
    def oidc_web_sign_in(self) -> bool:
        """The pages offer the identity provider (the authorisation-code flow)."""
        return self.oidc_client_id is not None


PERSON_ROLES = frozenset(
    {"coordinator", "agency_worker", "advisor", "recipient", "compliance_officer"}
)
HUB_ROLE_NAMES = frozenset({"coordinator", "compliance_officer"})
