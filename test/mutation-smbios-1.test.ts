/** Mutations of the SMBIOS corpus, part 1 of 2 (test/mutation/smbios.ts). */
import { smbiosMutations } from './mutation/smbios.js';

smbiosMutations(1);
