// The desk confirmation code: after the desk QR scan the app shows it large, and the
// officer types it before approving (so a photographed or relayed QR does not put a
// stranger's enrollment through at this desk).
import { h } from '../dom';
import { t } from '../i18n';

export function deskConfirmBox(code: string | null | undefined): HTMLElement | null {
  if (!code) return null;
  return h('div', { class: 'desk-confirm', role: 'group', 'aria-labelledby': 'desk-confirm-label' },
    h('p', { id: 'desk-confirm-label' }, t('desk_confirm_label')),
    h('p', { class: 'desk-confirm-code', 'data-testid': 'desk-confirm-code', 'aria-label': code.split('').join(' ') }, code),
    h('p', { class: 'small' }, t('desk_confirm_hint')));
}
