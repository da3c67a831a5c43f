// A real OpenID Connect provider (panva's oidc-provider) for SecureSphere's login tests.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG.json: {"port": N, "issuer": "http://127.0.0.1:N",
//   "clients": [{"client_id", "client_secret", "redirect_uris": [...],
//                "post_logout_redirect_uris"?: [...], "token_endpoint_auth_method"?: "..."}],
//   "accounts": {"<login>": {"password", "claims": {name, email, email_verified, groups, ...},
//                            "amr": ["pwd"], "acr"?: "..."}}}
//
// Listens on 127.0.0.1 only and prints "READY <issuer>" once it does. The signing key and the
// cookie keys are generated at start. Instead of the library's devInteractions it serves its own
// login page at /interaction/:uid ("Username", "Password", "Sign in"); consent is granted
// automatically. Claims go into the ID token (conformIdTokenClaims: false).
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { port, issuer } = config;
const accounts = config.accounts ?? {};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage(uid, clientId, { login = '', error = '' } = {}) {
  return page('Test identity provider', `<h1>Test identity provider</h1>
<p>Sign in to continue to ${escapeHtml(clientId)}.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <p><label for="username">Username</label>
  <input id="username" name="username" type="text" value="${escapeHtml(login)}" autofocus></p>
  <p><label for="password">Password</label>
  <input id="password" name="password" type="password"></p>
  <p><button type="submit">Sign in</button></p>
</form>`);
}

// The standard prompts (login, consent) plus a requestable "select_account" prompt: Streamlit sends
// prompt=select_account, which the library rejects unless such a prompt exists. It is answered by
// the same login form.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const acrValues = [...new Set(Object.values(accounts).map((a) => a.acr).filter(Boolean))];

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? c.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // Either value accepts both Basic and form-post credentials (oidc-provider treats the two as
    // interchangeable); Authlib's default is client_secret_basic.
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  })),
  jwks: { keys: [signingKey()] },
  cookies: {
    keys: [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')],
    // http on loopback: SameSite=None cookies need Secure, so use lax (all redirects are top-level).
    long: { signed: true, httpOnly: true, sameSite: 'lax' },
    short: { signed: true, httpOnly: true, sameSite: 'lax' },
  },
  // amr / acr / auth_time as standalone claims would only be sent when requested one by one
  // (claims parameter); listed under "openid", every ID token carries them.
  claims: {
    openid: ['sub', 'amr', 'acr', 'auth_time'],
    email: ['email', 'email_verified'],
    // Only claims listed here are released; an account claim missing from these lists is dropped.
    profile: [
      'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
      'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
      'groups',
    ],
    groups: ['groups'],
    sid: null,
    iss: null,
  },
  acrValues,
  scopes: ['openid'],
  responseTypes: ['code'],
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `<h1>Sign out of the test identity provider?</h1>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<h1>You are signed out.</h1>');
      },
    },
  },
  interactions: {
    policy,
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Test identity provider error</h1>
${Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join('\n')}`);
  },
  findAccount: async (ctx, sub) => {
    const account = accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ ...account.claims, sub, preferred_username: sub }),
    };
  },
});

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

// The grant covers every scope and claim the authorization request asked for (auto-consent).
async function grantFor(details, accountId) {
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  if (params.claims) {
    const requested = JSON.parse(params.claims);
    const names = new Set([
      ...Object.keys(requested.id_token ?? {}),
      ...Object.keys(requested.userinfo ?? {}),
    ]);
    if (names.size) grant.addOIDCClaims([...names]);
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page('Error', '<h1>Interaction mismatch</h1>'));
    return;
  }
  const clientId = details.params.client_id;
  if (req.method === 'GET' && !action) {
    send(res, 200, loginPage(uid, clientId));
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = form.get('username') ?? '';
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (!account || account.password !== (form.get('password') ?? '')) {
      send(res, 200, loginPage(uid, clientId, { login, error: 'Wrong username or password.' }));
      return;
    }
    // A different account than the session's leads the library to end that session first.
    const sameAccount = !details.session || details.session.accountId === login;
    const grantId = await grantFor(sameAccount ? details : { ...details, grantId: undefined }, login);
    const loginResult = { accountId: login, amr: account.amr ?? ['pwd'] };
    if (account.acr) loginResult.acr = account.acr;
    await provider.interactionFinished(req, res, {
      select_account: {},
      login: loginResult,
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return;
  }
  send(res, 405, page('Error', '<h1>Method not allowed</h1>'));
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?\/?(?:\?.*)?$/.exec(req.url);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error('interaction failed:', err);
    if (!res.headersSent) {
      send(res, 400, page('Error', `<h1>Test identity provider error</h1><p>${escapeHtml(err.message)}</p>`));
    } else {
      res.end();
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
