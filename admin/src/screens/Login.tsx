import { useState } from 'preact/hooks';
import { errorMessage } from '../lib/errors';
import { pb, SUPERUSERS } from '../lib/pb';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await pb.collection(SUPERUSERS).authWithPassword(email.trim(), password, { requestKey: 'login' });
      // App sees the auth store change and leaves the login page.
    } catch (err) {
      const mfa = (err as { response?: { mfaId?: string } }).response?.mfaId;
      setError(mfa ? 'This superuser needs multi-factor authentication, which the admin panel does not support yet.' : errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit} data-testid="login-form" aria-labelledby="login-title">
        <h1 id="login-title">Galley admin</h1>
        <p class="muted">Sign in as a superuser.</p>
        <div class="field">
          <label for="login-email">Email</label>
          <input id="login-email" type="email" autoComplete="username" required autoFocus value={email} onInput={(e) => setEmail(e.currentTarget.value)} data-testid="login-email" />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input id="login-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="login-password" />
        </div>
        {error && (
          <p class="form-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
