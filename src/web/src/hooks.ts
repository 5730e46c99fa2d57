import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** How often live pages ask again. Runs started by the schedule or another person show up within it. */
export const POLL_MS = 2000;

export interface Live<T> {
  data: T | null;
  error: ApiError | null;
  /** Ask now (after an action), without waiting for the next poll. */
  refresh: () => Promise<void>;
}

/**
 * Loads `load()` now and every `pollMs` (default POLL_MS) while the tab is visible (a hidden tab
 * asks nothing, and asks at once when it is shown again). Keeps the last good data while a later
 * request fails.
 */
export function useLive<T>(load: () => Promise<T>, deps: unknown[], pollMs = POLL_MS): Live<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const refreshRef = useRef<() => Promise<void>>(async () => {});

  useEffect(() => {
    const mine = ++generation.current;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight: Promise<void> | null = null;
    setData(null);
    setError(null);

    const fetchOnce = (): Promise<void> => {
      inFlight ??= (async () => {
        try {
          const value = await loadRef.current();
          if (generation.current === mine) {
            setData(value);
            setError(null);
          }
        } catch (caught) {
          if (generation.current === mine) setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
        } finally {
          inFlight = null;
        }
      })();
      return inFlight;
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(tick, pollMs);
    };
    const tick = async () => {
      if (document.visibilityState === 'visible') await fetchOnce();
      if (generation.current === mine) schedule();
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void tick();
    };
    refreshRef.current = async () => {
      await inFlight;
      await fetchOnce();
      schedule();
    };
    void tick();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      generation.current++;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, deps);

  const refresh = useCallback(() => refreshRef.current(), []);
  return { data, error, refresh };
}

/** State remembered in localStorage (the chosen period, for instance). */
export function useStoredState<T extends string>(key: string, allowed: readonly T[], fallback: T): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = localStorage.getItem(key);
      return allowed.find((option) => option === stored) ?? fallback;
    } catch {
      return fallback;
    }
  });
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        localStorage.setItem(key, next);
      } catch {
        // private mode: remembered for this page only
      }
    },
    [key],
  );
  return [value, set];
}

/** Sets the document title while a page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · cron-agents` : 'cron-agents';
  }, [title]);
}

/** Re-renders every `ms` (relative times such as "in 3 minutes" stay true). */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** How close to the bottom of the page (px) still counts as reading the newest lines. */
const FOLLOW_SLACK = 64;

function nearBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - FOLLOW_SLACK;
}

function toBottom(): void {
  window.scrollTo({ top: document.documentElement.scrollHeight, behavior: 'instant' });
}

/**
 * Keeps the page scrolled to its end as content is added (`version` changes) while `active`,
 * unless the reader has scrolled up: then it waits until they come back down, or call `follow()`.
 */
export function useFollowScroll(active: boolean, version: unknown): { following: boolean; follow: () => void } {
  const pinned = useRef(true);
  const [following, setFollowing] = useState(true);
  useEffect(() => {
    const onScroll = () => {
      pinned.current = nearBottom();
      setFollowing(pinned.current);
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);
  useLayoutEffect(() => {
    if (active && pinned.current) toBottom();
  }, [active, version]);
  const follow = useCallback(() => {
    pinned.current = true;
    setFollowing(true);
    toBottom();
  }, []);
  return { following, follow };
}
