// A real OpenID Provider for jusou's demo and tests: the certified `oidc-provider` package, with a small
// login page of its own (password, and a box for "a second factor was used", which puts "otp" into the
// ID token's amr), accounts from a JSON file, and a few test-only switches under /_test/ (disable an
// account, tamper with the next ID token). Not for production: a municipality's IdP is Entra ID, Keycloak …
//
//   node devdata/idp/oidc.mjs            (settings from the environment, defaults below)
//
// OIDC_IDP_PORT (9011), OIDC_IDP_ISSUER (http://127.0.0.1:9011), OIDC_IDP_ACCOUNTS (accounts.json beside this
// file), OIDC_IDP_CLIENT_ID (jusou), OIDC_IDP_CLIENT_SECRET (jusou-demo-oidc-secret), OIDC_IDP_RP
// (http://127.0.0.1:8000: jusou's address, for the redirect, logout and back-channel URIs).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => process.env[name] || fallback;
const port = Number(env('OIDC_IDP_PORT', '9011'));
const issuer = env('OIDC_IDP_ISSUER', `http://127.0.0.1:${port}`);
const clientId = env('OIDC_IDP_CLIENT_ID', 'jusou');
const clientSecret = env('OIDC_IDP_CLIENT_SECRET', 'jusou-demo-oidc-secret');
const rps = env('OIDC_IDP_RP', 'http://127.0.0.1:8000').split(',');
const idpKey = env('OIDC_IDP_KEY', 'city');
const accounts = JSON.parse(fs.readFileSync(env('OIDC_IDP_ACCOUNTS', path.join(here, 'accounts.json')), 'utf8'));

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
// a new key (and key id) at every start, as an IdP's key rotation looks to the RP
const kid = `idp-${Date.now().toString(36)}`;
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid, use: 'sig', alg: 'RS256' };
const { privateKey: strangerKey } = await jose.generateKeyPair('RS256');
let tamper = null; // the next ID token: 'signature' | 'audience' | 'expired' | 'issuer'

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: rps.map((rp) => `${rp}/sso/oidc/${idpKey}/callback/`),
    post_logout_redirect_uris: rps.map((rp) => `${rp}/accounts/login/`),
    backchannel_logout_uri: `${rps[0]}/sso/oidc/${idpKey}/backchannel-logout/`,
    backchannel_logout_session_required: true,
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['jusou-demo-idp-cookie-key'] },
  claims: { sid: null, iss: null, openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email'], profile: ['name', 'family_name', 'given_name'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false }, backchannelLogout: { enabled: true }, rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="ja"><meta charset="utf-8"><title>ログアウト</title>
<h1>みどり市 統合認証（デモ）からもログアウトしますか？</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">ログアウトする</button>
<button type="submit" form="op.logoutForm">IdPにはログインしたままにする</button></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!doctype html><html lang="ja"><meta charset="utf-8"><title>ログアウトしました</title><h1>統合認証からログアウトしました。</h1></html>';
      },
    },
  },
  pkce: { required: () => true },
  ttl: { IdToken: 3600, AccessToken: 600, RefreshToken: 86400, Session: 86400, Interaction: 600, Grant: 86400 },
  // jusou is the municipality's own application: no consent screen, every scope it asks for is granted
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    grant.addOIDCClaims(['acr', 'amr', 'auth_time']);
    await grant.save();
    return grant;
  },
  async issueRefreshToken(ctx, client) { return client.grantTypeAllowed('refresh_token'); },
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account || account.disabled) return undefined; // a disabled subject: no login, no refresh
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, family_name: account.family_name, given_name: account.given_name,
          name: `${account.family_name} ${account.given_name}`, groups: account.groups || [] };
      },
    };
  },
  // oidc-provider refuses outgoing requests to loopback and private addresses (SSRF protection); the
  // demo's and the tests' jusou listens on 127.0.0.1, so the back-channel logout must reach it there.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  conformIdTokenClaims: false, // the groups travel in the ID token, as Entra ID and Keycloak put them
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><meta charset="utf-8"><title>IdP エラー</title><h1>IdP エラー</h1><pre>${escape(JSON.stringify(out))}</pre>`;
  },
});
provider.proxy = true;
provider.on('backchannel.error', (ctx, error, client) => console.error(`back-channel logout to ${client.clientId} failed: ${error}`));
provider.on('backchannel.success', (ctx, client, sub) => console.log(`back-channel logout sent to ${client.clientId} for ${sub}`));

async function tampered(idToken) {
  const claims = jose.decodeJwt(idToken);
  const mode = tamper;
  tamper = null;
  if (mode === 'signature') return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(strangerKey);
  if (mode === 'audience') claims.aud = 'another-client';
  if (mode === 'issuer') claims.iss = 'http://127.0.0.1:1/';
  if (mode === 'expired') { claims.iat -= 7200; claims.exp = claims.iat + 60; }
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
}

function loginPage(uid, error = '') {
  return `<!doctype html><html lang="ja"><meta charset="utf-8"><title>みどり市 統合認証（デモ）</title>
<h1>みどり市 統合認証（デモ）</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>ユーザーID <input name="login" autofocus></label>
<label>パスワード <input name="password" type="password"></label>
<label><input type="checkbox" name="mfa" value="1"> 二要素認証（ワンタイムパスワード）を使う</label>
<button type="submit">サインイン</button></form></html>`;
}

const readForm = (req) => new Promise((resolve) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => resolve(new URLSearchParams(body)));
});

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (match) {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        return res.end(loginPage(details.uid));
      }
      const form = await readForm(req);
      const sub = form.get('login');
      const account = accounts[sub];
      if (!account || account.password !== form.get('password') || account.disabled) {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        return res.end(loginPage(details.uid, 'ユーザーIDまたはパスワードが違います。'));
      }
      const amr = form.get('mfa') ? ['pwd', 'otp'] : ['pwd'];
      return provider.interactionFinished(req, res, { login: { accountId: sub, amr } }, { mergeWithLastSubmission: false });
    }
    if (url.pathname.startsWith('/_test/') && req.method === 'POST') {
      const form = await readForm(req);
      if (url.pathname === '/_test/disable') accounts[form.get('sub')].disabled = true;
      else if (url.pathname === '/_test/enable') accounts[form.get('sub')].disabled = false;
      else if (url.pathname === '/_test/tamper') tamper = form.get('mode');
      else if (url.pathname === '/_test/account') accounts[form.get('sub')] = JSON.parse(form.get('json'));
      else { res.statusCode = 404; return res.end(); }
      res.statusCode = 204;
      return res.end();
    }
    if (url.pathname === '/token' && tamper) {
      // the ID token as the RP receives it, altered as an attacker or a broken IdP would
      const send = res.end.bind(res);
      const chunks = [];
      res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
      res.end = (chunk) => {
        if (chunk) chunks.push(Buffer.from(chunk));
        const text = Buffer.concat(chunks).toString('utf8');
        let body;
        try { body = JSON.parse(text); } catch { return send(text); }
        if (!body.id_token) return send(text);
        tampered(body.id_token).then((token) => {
          body.id_token = token;
          const out = JSON.stringify(body);
          res.setHeader('Content-Length', Buffer.byteLength(out));
          send(out);
        });
      };
    }
    return callback(req, res);
  } catch (error) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(String(error));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`OIDC IdP ${issuer} for ${rps.join(', ')}`));
