import { useEffect, useState } from 'react';
import { platform, type SecretsStatus } from '../platform.js';

/**
 * Desktop only: a visible warning when the OS offers no keychain and `${secret:NAME}` values are
 * kept as plain text (main/electron/secrets.ts). Fixed over the corner, so it never shifts the
 * editor's layout; it can be dismissed for the session.
 */
export function SecretsBanner() {
  const [status, setStatus] = useState<SecretsStatus | undefined>();
  const [dismissed, setDismissed] = useState(false);

  useEffect(() => {
    let live = true;
    platform()
      .secrets?.status()
      .then(
        (s) => live && setStatus(s),
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, []);

  if (!status || status.encrypted || dismissed) return null;
  return (
    <div
      role="alert"
      data-testid="secrets-banner"
      style={{
        position: 'fixed',
        right: 12,
        bottom: 12,
        zIndex: 1000,
        maxWidth: 420,
        display: 'flex',
        gap: 8,
        alignItems: 'flex-start',
        padding: '8px 10px',
        font: '12px/1.4 system-ui, sans-serif',
        color: 'var(--text)',
        background: 'var(--panel)',
        border: '1px solid var(--warn)',
        borderLeftWidth: 4,
        borderRadius: 4,
        boxShadow: 'var(--shadow)',
      }}
    >
      <span>
        <strong>Secrets are stored as plain text.</strong> No OS keychain is available here (backend{' '}
        <code>{status.backend}</code>), so <code>{'${secret:NAME}'}</code> values are kept unencrypted in the app&apos;s
        data folder, readable by anyone who can read your files.
      </span>
      <button type="button" aria-label="Dismiss" onClick={() => setDismissed(true)}>
        ×
      </button>
    </div>
  );
}
