#!/usr/bin/perl
# Prints the CGI environment (what the backend got) as one JSON object.
use strict;
use warnings;
use JSON::PP ();

my %env = %ENV;
print "Content-Type: application/json\r\n\r\n";
print JSON::PP->new->canonical->ascii->encode(\%env), "\n";
