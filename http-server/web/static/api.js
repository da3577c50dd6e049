// The client's only door to the gateway: JSON over fetch, the bearer token
// from the session, and the retry rules every caller shares.
//
// Retries: a network failure is retried with exponential backoff (1 s up to
// 30 s); 429 and 503 are retried after the server's Retry-After. Only calls
// that are safe to repeat are retried: reads, read markers (they only move
// forward), member changes (sets), and sends (each carries a client_msg_id,
// so a repeat never stores a message twice). Everything else fails at once.

/** An error answer of the API, or the network's. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // 0 for a network failure
    this.code = code;
  }
}

const maxBackoffMs = 30000;

/** Resolves after ms, or rejects with an AbortError when signal aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** True for the rejection of an aborted call, which is never an error to show. */
export function isAbort(err) {
  return err?.name === 'AbortError';
}

export class Api {
  /**
   * @param {object} hooks
   * @param {() => string} hooks.token the current bearer token ('' for none)
   * @param {(text: string, isError: boolean) => void} hooks.status shows a line to the person ('' clears it)
   * @param {(err: ApiError) => void} hooks.unauthenticated called on every 401
   */
  constructor(hooks) {
    this.hooks = hooks;
  }

  /**
   * Calls the API and returns the decoded JSON answer.
   * @param {string} method
   * @param {string} path
   * @param {object} [options]
   * @param {Record<string, string|number|boolean|undefined>} [options.query]
   * @param {object} [options.body] sent as JSON
   * @param {AbortSignal} [options.signal]
   * @param {boolean} [options.retry] whether the call is safe to repeat
   */
  async call(method, path, { query, body, signal, retry = false } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const headers = { Accept: 'application/json' };
    const token = this.hooks.token();
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let backoff = 1000;
    for (;;) {
      let answer;
      try {
        answer = await fetch(url, {
          method, headers, signal, cache: 'no-store',
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (isAbort(err) || !retry) throw isAbort(err) ? err : new ApiError(0, 'offline', 'The gateway cannot be reached.');
        const wait = backoff * (0.75 + Math.random() * 0.5);
        this.hooks.status(`The gateway cannot be reached; trying again in ${Math.round(wait / 1000)} s.`, true);
        await sleep(wait, signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
        continue;
      }
      if (answer.ok) {
        if (backoff !== 1000) this.hooks.status('', false);
        return answer.json();
      }
      const err = await toError(answer);
      if (answer.status === 401) {
        this.hooks.unauthenticated(err);
        throw err;
      }
      if (retry && (answer.status === 429 || answer.status === 503)) {
        const seconds = Math.max(1, Math.min(60, Number.parseInt(answer.headers.get('Retry-After') ?? '1', 10) || 1));
        const why = answer.status === 429 ? 'Too many requests' : 'The service is busy';
        this.hooks.status(`${why}; trying again in ${seconds} s.`, true);
        await sleep(seconds * 1000, signal);
        backoff = 2000; // marks that a status line is showing, to clear it on success
        continue;
      }
      throw err;
    }
  }
}

async function toError(answer) {
  let code = 'http_' + answer.status;
  let message = `The gateway answered ${answer.status}.`;
  try {
    const body = await answer.json();
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string' && body.message) message = body.message;
  } catch {
    // Not JSON: keep the generic words.
  }
  return new ApiError(answer.status, code, message);
}
