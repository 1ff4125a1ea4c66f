/*
 * version.h - the version of postern, printed by every program's -V and
 * logged at start.  debian/changelog carries the same number.
 */
#ifndef POSTERN_VERSION_H
#define POSTERN_VERSION_H

#define POSTERN_VERSION "0.7.0"

#endif
