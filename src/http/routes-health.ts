import { Router } from 'express';

/** `GET /api/health`, as PocketBase answers it. */
export function healthRoutes(): Router {
  const router = Router();
  router.get('/api/health', (_req, res) => {
    res.json({ message: 'API is healthy.', code: 200, data: {} });
  });
  return router;
}
