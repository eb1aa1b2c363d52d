/** Mutations of the DMAR corpus, part 1 of 2 (test/mutation/dmar.ts). */
import { dmarMutations } from './mutation/dmar.js';

dmarMutations(1);
