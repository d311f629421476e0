import type { Language } from '../../../src-main/contract/schemas';
import { en, type Dictionary } from './en';
import { ja } from './ja';

const dictionaries: Record<Language, Dictionary> = { en, ja };

/** The UI language; every visible string goes through `i18n.t`. */
class I18n {
  language = $state<Language>('en');

  get t(): Dictionary {
    return dictionaries[this.language];
  }
}

export const i18n = new I18n();
