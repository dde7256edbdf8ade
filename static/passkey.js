// Passkey buttons (data-action="passkey-signin" | "passkey-verify" | "passkey-add"): fetch options
// from data-options, run the browser's ceremony, post the result to data-verify, follow `location`.
// Sections marked data-passkey stay hidden where the browser has no passkey support.
(() => {
  const webauthn = window.SimpleWebAuthnBrowser;
  if (!webauthn?.browserSupportsWebAuthn()) return;
  for (const section of document.querySelectorAll('[data-passkey]')) section.hidden = false;
  // The passkey section introduces the password form itself.
  for (const lead of document.querySelectorAll('[data-password-lead]')) lead.hidden = true;

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(json.error_description || response.statusText);
    return json;
  }

  for (const button of document.querySelectorAll('[data-action^="passkey-"]')) {
    const error = button.parentElement.querySelector('[data-passkey-error]');
    const fallback = error?.textContent ?? '';
    button.addEventListener('click', async () => {
      button.disabled = true;
      if (error) error.hidden = true;
      try {
        const csrf = button.dataset.csrf;
        const optionsJSON = await post(button.dataset.options, { _csrf: csrf });
        const adding = button.dataset.action === 'passkey-add';
        const response = adding
          ? await webauthn.startRegistration({ optionsJSON })
          : await webauthn.startAuthentication({ optionsJSON });
        const name = button.dataset.nameField && document.getElementById(button.dataset.nameField)?.value;
        const result = await post(button.dataset.verify, { _csrf: csrf, response, ...(adding && { name }) });
        window.location.assign(result.location);
      } catch (caught) {
        if (error) {
          // Our server's messages are meant for people; the browser's (cancelled, timed out) are not.
          error.textContent =
            caught instanceof Error &&
            !(caught.name in { NotAllowedError: 1, AbortError: 1 }) &&
            caught.message
              ? caught.message
              : fallback;
          error.hidden = false;
          error.focus?.();
        }
        button.disabled = false;
      }
    });
  }
})();
