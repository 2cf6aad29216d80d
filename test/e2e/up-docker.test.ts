import { upSuite } from './up-suite.js';

upSuite('docker');
