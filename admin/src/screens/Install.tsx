import { useState } from 'preact/hooks';
import { errorMessage, fieldErrors, statusOf, type FieldErrors } from '../lib/errors';
import { pb, SUPERUSERS } from '../lib/pb';
import { navigate } from '../lib/router';

/** `#/pbinstal/<token>`: the link `galley serve` prints while no superuser exists. */
export function Install({ token }: { token: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setErrors({});
    if (password !== confirm) {
      setErrors({ passwordConfirm: "Passwords don't match." });
      return;
    }
    setBusy(true);
    try {
      pb.authStore.clear();
      await pb
        .collection(SUPERUSERS)
        .create({ email: email.trim(), password, passwordConfirm: confirm }, { headers: { Authorization: token }, requestKey: null });
      await pb.collection(SUPERUSERS).authWithPassword(email.trim(), password, { requestKey: null });
      navigate({ name: 'home' }, true);
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      const status = statusOf(err);
      if (Object.keys(fields).length) setError(errorMessage(err));
      else if (status === 401 || status === 403 || (status === 400 && !Object.keys(fields).length))
        setError(`${errorMessage(err)} The install link may have expired or a superuser may exist already: sign in, or run "galley superuser upsert EMAIL PASSWORD".`);
      else setError(errorMessage(err));
      setBusy(false);
    }
  };

  const describe = (name: string) => (errors[name] ? `install-${name}-error` : undefined);

  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit} data-testid="install-form" aria-labelledby="install-title" noValidate>
        <h1 id="install-title">Create the first superuser</h1>
        <p class="muted">This one-time link creates the account you will use to sign in to the admin panel.</p>
        <div class="field">
          <label for="install-email">Email</label>
          <input id="install-email" type="email" autoComplete="username" required autoFocus value={email} onInput={(e) => setEmail(e.currentTarget.value)} aria-invalid={Boolean(errors['email'])} aria-describedby={describe('email')} data-testid="install-email" />
          {errors['email'] && <p class="field-error" id="install-email-error">{errors['email']}</p>}
        </div>
        <div class="field">
          <label for="install-password">Password</label>
          <input id="install-password" type="password" autoComplete="new-password" required minLength={8} value={password} onInput={(e) => setPassword(e.currentTarget.value)} aria-invalid={Boolean(errors['password'])} aria-describedby={describe('password')} data-testid="install-password" />
          {errors['password'] && <p class="field-error" id="install-password-error">{errors['password']}</p>}
        </div>
        <div class="field">
          <label for="install-password-confirm">Confirm password</label>
          <input id="install-password-confirm" type="password" autoComplete="new-password" required value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} aria-invalid={Boolean(errors['passwordConfirm'])} aria-describedby={describe('passwordConfirm')} data-testid="install-password-confirm" />
          {errors['passwordConfirm'] && <p class="field-error" id="install-passwordConfirm-error">{errors['passwordConfirm']}</p>}
        </div>
        {error && (
          <p class="form-error" role="alert" data-testid="install-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="install-submit">
          {busy ? 'Creating…' : 'Create superuser and sign in'}
        </button>
        <p class="muted small">
          Already have an account? <a href="#/login">Sign in</a>
        </p>
      </form>
    </main>
  );
}
