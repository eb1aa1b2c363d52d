/** Mutations of the DMAR corpus, part 2 of 2 (test/mutation/dmar.ts). */
import { dmarMutations } from './mutation/dmar.js';

dmarMutations(2);
