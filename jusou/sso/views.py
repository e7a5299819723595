"""The SSO endpoints: start a login at an IdP, its callback, back-channel logout, and logout (which
also ends the IdP session where the IdP offers RP-initiated logout). The rules are in services.py."""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import JoseError

from jusou.models import SsoEvent, SsoSession
from jusou.sso import saml, services
from jusou.staff.forms import StaffLoginForm

logger = logging.getLogger(__name__)


def _safe_next(request, target: str) -> str:
    """A page of this site to go to after login; anything else (another host, a scheme) is dropped."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _login_page(request, message: str, status: int):
    """The login page after a refusal: its IdP buttons ask the IdP to authenticate again (OIDC
    prompt=login, SAML ForceAuthn), so the person can sign in there as someone else."""
    from jusou.staff.views import sso_buttons

    context = {
        "form": StaffLoginForm(request),
        "sso_error": message,
        "next": "",
        **sso_buttons(request, force=True),
    }
    return render(request, "registration/login.html", context, status=status)


@login_not_required
@never_cache
@require_GET
def oidc_login(request, key):
    provider = services.provider_get(key)
    request.session[services.NEXT_KEY] = _safe_next(request, request.GET.get("next", ""))
    try:
        client = services.oidc_client(provider)
        extra = {"prompt": "login"} if request.GET.get("force") == "1" else {}
        return client.authorize_redirect(
            request, request.build_absolute_uri(reverse("sso_oidc_callback", args=[key])), **extra
        )
    except (requests.RequestException, AuthlibBaseError, ValueError) as error:
        refused = services.refusal_for(error)
        services.refuse_log(key, refused, request.META.get("REMOTE_ADDR"))
        return _login_page(request, refused.message, 503)


@login_not_required
@never_cache
@require_GET
def oidc_callback(request, key):
    provider = services.provider_get(key)
    next_url = request.session.pop(services.NEXT_KEY, "")
    try:
        token = services.oidc_client(provider).authorize_access_token(
            request, leeway=settings.SSO_CLOCK_LEEWAY_SECONDS
        )
        login = services.oidc_login_complete(request, provider, token)
    except services.SsoRefused as refused:
        services.refuse_log(key, refused, request.META.get("REMOTE_ADDR"))
        return _login_page(request, refused.message, 403)
    except (requests.RequestException, AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        refused = services.refusal_for(error)
        services.refuse_log(key, refused, request.META.get("REMOTE_ADDR"))
        return _login_page(request, refused.message, 400)
    return redirect(_safe_next(request, next_url) or login.user.home_url())


@login_not_required
@csrf_exempt  # a server-to-server POST from the IdP, authenticated by the logout token's signature
@require_POST
def oidc_backchannel_logout(request, key):
    provider = services.provider_get(key)
    token = request.POST.get("logout_token", "")
    try:
        ended = services.backchannel_logout(provider, token, address=request.META.get("REMOTE_ADDR"))
    except services.LogoutTokenRefused as error:
        services.logout_refused_log(key, error, request.META.get("REMOTE_ADDR"))
        return HttpResponse(status=400, headers={"Cache-Control": "no-store"})
    logger.info("SSO %s: back-channel logout ended %d session(s)", key, ended)
    return HttpResponse(status=200, headers={"Cache-Control": "no-store"})


@login_not_required
@never_cache
@require_GET
def saml_login(request, key):
    provider = saml.provider_get(key)
    try:
        target, request_id = saml.login_start(
            provider, _safe_next(request, request.GET.get("next", "")), force=request.GET.get("force") == "1"
        )
    except Exception as error:  # metadata unreachable or unreadable
        refused = saml.refusal_for(error)
        services.refuse_log(key, refused, request.META.get("REMOTE_ADDR"))
        return _login_page(request, refused.message, 503)
    response = HttpResponseRedirect(target)
    # the IdP POSTs its answer back from its own site: over HTTPS the cookie must be SameSite=None to
    # come along; it holds only the request's id (the request itself is kept server-side)
    response.set_cookie(
        saml.cookie_name(key),
        request_id,
        max_age=saml.REQUEST_SECONDS,
        path=reverse("sso_saml_acs", args=[key]),
        secure=request.is_secure(),
        httponly=True,
        samesite="None" if request.is_secure() else "Lax",
    )
    return response


@login_not_required
@csrf_exempt  # the IdP's Response, POSTed by the browser from the IdP's page; checked by its signature
@never_cache
@require_POST
def saml_acs(request, key):
    provider = saml.provider_get(key)
    request_id = request.COOKIES.get(saml.cookie_name(key), "")
    try:
        answer = saml.login_response(provider, request.POST.get("SAMLResponse", ""), request_id)
        login = services.login_complete(
            request, provider_key=key, create_accounts=provider.create_accounts, asserted=answer.asserted
        )
    except services.SsoRefused as refused:
        services.refuse_log(key, refused, request.META.get("REMOTE_ADDR"))
        response = _login_page(request, refused.message, 403)
    else:
        response = redirect(_safe_next(request, answer.next_url) or login.user.home_url())
    response.delete_cookie(saml.cookie_name(key), path=reverse("sso_saml_acs", args=[key]))
    return response


@login_not_required
@never_cache
@require_GET
def saml_sls(request, key):
    """Single logout over HTTP-Redirect: the IdP's answer to jusou's LogoutRequest, or the IdP's own
    LogoutRequest (a logout at the IdP or another service), answered with a LogoutResponse."""
    provider = saml.provider_get(key)
    fields = request.GET.dict()
    if "SAMLResponse" in fields:
        if saml.logout_response_ok(provider, fields["SAMLResponse"], fields):
            messages.info(request, "IdPからもログアウトしました。")
        else:
            messages.warning(
                request, "IdPのログアウトを確認できませんでした。IdP の画面でログアウトしてください。"
            )
        return redirect("login")
    try:
        logout_request, ended = saml.logout_request(
            provider,
            fields.get("SAMLRequest", ""),
            saml.BINDING_HTTP_REDIRECT,
            fields,
            address=request.META.get("REMOTE_ADDR"),
        )
    except saml.LogoutRequestRefused as error:
        services.logout_refused_log(key, error, request.META.get("REMOTE_ADDR"))
        return _login_page(request, "IdPからのログアウト要求を確認できませんでした。", 400)
    auth.logout(request)
    logger.info("SSO %s: SAML logout request ended %d session(s)", key, ended)
    info = saml.logout_answer(
        provider, logout_request, saml.BINDING_HTTP_REDIRECT, fields.get("RelayState", "")
    )
    return HttpResponseRedirect(dict(info["headers"])["Location"])


@login_not_required
@csrf_exempt  # a server-to-server SOAP call from the IdP, authenticated by the request's signature
@require_POST
def saml_soap(request, key):
    provider = saml.provider_get(key)
    address = request.META.get("REMOTE_ADDR")
    try:
        if request.content_type not in ("text/xml", "application/soap+xml"):
            # a SOAP message is XML; anything else (a form) was never one (and its body is read as a form)
            raise saml.LogoutRequestRefused(
                f"not a SOAP message ({request.content_type or 'no content type'})"
            )
        logout_request, ended = saml.logout_request(
            provider, request.body.decode("utf-8", "replace"), saml.BINDING_SOAP, address=address
        )
    except saml.LogoutRequestRefused as error:
        services.logout_refused_log(key, error, address)
        return HttpResponse(status=400, headers={"Cache-Control": "no-store"})
    logger.info("SSO %s: SAML back-channel logout ended %d session(s)", key, ended)
    info = saml.logout_answer(provider, logout_request, saml.BINDING_SOAP)
    return HttpResponse(
        info["data"], content_type="text/xml; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


@login_not_required
@require_GET
def saml_metadata(request, key):
    """jusou's SP metadata for this IdP: what its administrator registers (or the IdP reads)."""
    return HttpResponse(saml.sp_metadata(saml.provider_get(key)), content_type="application/samlmetadata+xml")


@require_POST
def logout(request):
    """ログアウト: the jusou session ends; an SSO session also ends at the IdP (RP-initiated logout),
    which then returns to the login page."""
    session = services.session_current(request)
    auth.logout(request)
    login_url = request.build_absolute_uri(reverse("login"))
    if session is None:
        return redirect("login")
    services.sessions_end(
        SsoSession.objects.filter(pk=session.pk),
        reason="ログアウト",
        kind=SsoEvent.Kind.LOGOUT,
        address=request.META.get("REMOTE_ADDR"),
    )
    target = services.logout_url(request, session, login_url)
    if target is not None and session.identity.provider in settings.SSO_OIDC:
        # shown when the IdP's end-session page sends the browser back (SAML's answer says more: sls)
        messages.info(request, "jusou からログアウトしました。")
    if target is None:
        messages.info(request, "ログアウトしました。IdPのログアウトは IdP の画面で行ってください。")
        return redirect("login")
    return HttpResponseRedirect(target)
