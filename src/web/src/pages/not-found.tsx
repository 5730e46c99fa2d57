import { useTitle } from '../hooks';
import { Link } from '../router';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <section class="empty-state">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <Link href="/" class="button">
          Go to the overview
        </Link>
      </p>
    </section>
  );
}
