"""How drf-spectacular describes jusou's authentication in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jusou.api.auth.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>`（`Token <token>` も可）。職員は /api/v1/auth/token/ で、"
            "連携システムはシステム管理者から発行を受けます。",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "jusou.api.auth.StaffSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
