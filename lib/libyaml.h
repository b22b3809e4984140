/*
 * libyaml.h - the libyaml API. Its header is also named yaml.h, which
 * lib/yaml.h shadows on the -Ilib include path; include this one, with
 * angle brackets, to reach libyaml's.
 */
#ifndef TIDEGATE_LIBYAML_H
#define TIDEGATE_LIBYAML_H
#include_next <yaml.h>
#endif
