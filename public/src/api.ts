// The HTTP API as the page uses it: the session cookie, the CSRF token on changes, and errors as messages.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function csrf(): string {
  return /(?:^|;\s*)gantry_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
}

async function failure(res: Response): Promise<ApiError> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const j = (await res.json()) as { error?: string };
    if (j.error) msg = j.error;
  } catch {
    /* not JSON */
  }
  if (res.status === 403 && /CSRF|key/i.test(msg)) onAuthLost();
  return new ApiError(res.status, msg);
}

let onAuthLost = () => undefined as void;
export function whenAuthLost(fn: () => void): void {
  onAuthLost = fn;
}

export async function api<T = unknown>(path: string, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const method = init.method ?? (init.json !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { ...init.headers };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : null, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'Gantry cannot be reached; check the network');
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : undefined) as T;
}

/** A multipart form POST (OctoPrint makes folders that way), with the CSRF token and errors as messages. */
export async function postForm(path: string, form: FormData): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', body: form, headers: { 'X-CSRF-Token': csrf() }, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'Gantry cannot be reached; check the network');
  }
  if (!res.ok) throw await failure(res);
}

/** Uploads with progress (fetch cannot report upload progress). */
export function upload(file: File, folder: string, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    if (folder) form.append('path', folder);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/files/local');
    xhr.setRequestHeader('X-CSRF-Token', csrf());
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let msg = `Upload failed (${xhr.status})`;
      try {
        msg = (JSON.parse(xhr.responseText) as { error?: string }).error ?? msg;
      } catch {
        /* not JSON */
      }
      reject(new ApiError(xhr.status, msg));
    };
    xhr.onerror = () => reject(new ApiError(0, 'The upload was interrupted'));
    xhr.send(form);
  });
}
