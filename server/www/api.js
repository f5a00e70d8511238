// The one door to the server (/api/v1): JSON both ways, the session cookie sent by the browser,
// the CSRF token on every unsafe request, RFC 9457 problems turned into ApiError, and a lost
// session (401) reported once to the page, which goes back to the sign-in screen; every answer
// that shows the session alive reported too (session.js counts its idle expiry from it).

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }
  get slug() {
    const t = String(this.problem.type || '');
    return t.slice(t.lastIndexOf('/') + 1);
  }
  /** A refusal for the CSRF token: the server's own problem type for it
   *  (https://dalil.ma/problems/csrf), never a role's refusal. */
  get csrf() {
    return this.status === 403 && this.slug === 'csrf';
  }
}

let csrf = '';
let sessionLost = () => {};
let sessionSeen = () => {};

export function setCsrf(token) { csrf = token || ''; }
export function onSessionLost(fn) { sessionLost = fn; }
/** fn(at) after every answer given once the server had checked the session, which it then kept
 *  alive (its idle expiry starts again): `at` is when the answer arrived (Date.now()). */
export function onSessionSeen(fn) { sessionSeen = fn; }

/** Answers given after the session was checked: a success, or a refusal of the request itself
 *  (its body, its CSRF token, a role, an unknown file number, a conflict). Not a 401 (no
 *  session), nor a 5xx (a 503 may say the session could not be checked). */
const CHECKED = new Set([400, 403, 404, 409, 415, 422]);

/** Calls the API; resolves to the parsed body (null for 204), rejects with ApiError. */
export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { title: 'network' });
  }
  if (res.ok || CHECKED.has(res.status)) sessionSeen(Date.now());
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (res.ok) return data;
  const err = new ApiError(res.status, data, Number(res.headers.get('Retry-After')) || undefined);
  if (res.status === 401 && !quiet401) sessionLost(err);
  throw err;
}

/** "/applicant/household/size" → "household.size" (the path of a schema field). */
export function pointerToPath(pointer) {
  const parts = String(pointer || '').split('/').slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts[0] === 'applicant') parts.shift();
  return parts.join('.');
}
