import { useEffect, useState } from 'preact/hooks';
import { ErrorBoundary } from './components/ErrorBoundary';
import { ErrorsProvider } from './components/Errors';
import { hasSession, pb, refreshIfNeeded, setUnauthorizedHandler } from './lib/pb';
import { hrefOf, navigate, useRoute, type Route } from './lib/router';
import { Install } from './screens/Install';
import { Login } from './screens/Login';
import { Shell } from './screens/Shell';

const REFRESH_CHECK_MS = 60_000;

/** Where to go back to after signing in again. */
let returnTo: Route | null = null;

function useSession(): boolean {
  const [signedIn, setSignedIn] = useState(hasSession);
  useEffect(() => {
    const off = pb.authStore.onChange(() => setSignedIn(hasSession()));
    // A request answered 401: the token was revoked or expired.
    setUnauthorizedHandler(() => {
      if (pb.authStore.token) pb.authStore.clear();
    });
    void refreshIfNeeded();
    const timer = window.setInterval(() => void refreshIfNeeded(), REFRESH_CHECK_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') void refreshIfNeeded();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      off();
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);
  return signedIn;
}

export function App() {
  const route = useRoute();
  const signedIn = useSession();

  // Signed out (or never signed in): every page but the install link goes to the login form.
  useEffect(() => {
    if (route.name === 'install') return;
    if (!signedIn && route.name !== 'login') {
      returnTo = route;
      navigate({ name: 'login' }, true);
    } else if (signedIn && route.name === 'login') {
      const back = returnTo && returnTo.name !== 'login' ? returnTo : ({ name: 'home' } as Route);
      returnTo = null;
      navigate(back, true);
    }
  }, [signedIn, route]);

  let screen;
  if (route.name === 'install') screen = <Install token={route.token} />;
  else if (!signedIn) screen = route.name === 'login' ? <Login /> : null;
  else if (route.name === 'login') screen = null;
  else screen = <Shell route={route} />;

  return (
    <ErrorsProvider>
      <ErrorBoundary resetKey={hrefOf(route)}>{screen}</ErrorBoundary>
    </ErrorsProvider>
  );
}
