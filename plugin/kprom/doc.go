package kprom
