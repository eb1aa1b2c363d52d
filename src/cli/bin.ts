#!/usr/bin/env node
/** The program's entry (the bundle, the single executable, the .deb): runs whatever the file is named. */
import { run } from './main.js';

run();
